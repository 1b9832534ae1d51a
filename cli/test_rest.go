package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/engine/resttest"
)

// runRESTTests runs ksqlDB REST test files against an embedded server in a temporary directory,
// one case at a time (the runner empties the server between cases), reporting progress over
// several files on errOut.
func runRESTTests(ctx context.Context, out, errOut io.Writer, path string, re *regexp.Regexp, verbose bool, sum *testSummary) error {
	cases, err := resttest.Load(path)
	if err != nil {
		return fmt.Errorf("test: %w", err)
	}
	dir, err := os.MkdirTemp("", "seiche-rest-test-")
	if err != nil {
		return fmt.Errorf("test: %w", err)
	}
	defer os.RemoveAll(dir)
	srv, err := engine.StartEmbedded(engine.EmbeddedConfig{DataDir: dir, Opts: engine.TestOpts(), BrokerOpts: engine.TestBrokerOpts()})
	if err != nil {
		return fmt.Errorf("test: start an embedded server: %w", err)
	}
	defer srv.Close()
	target := resttest.Target{HTTP: srv.URL, Bootstrap: srv.Bootstrap}
	// Cases come file by file; progress counts files as the file name changes.
	files := 0
	for i, c := range cases {
		if i == 0 || c.File != cases[i-1].File {
			files++
		}
	}
	progress := newTestProgress(errOut, files)
	n := 0
	for i, c := range cases {
		if re == nil || re.MatchString(c.ID) || re.MatchString(c.Name) {
			r := resttest.Run(ctx, target, c)
			sum.reportStatus(out, c.ID, r.Status.String(), r.Reason, r.Detail, verbose)
			n++
		}
		if i == len(cases)-1 || cases[i+1].File != c.File {
			progress.fileDone(c.File, n)
			n = 0
		}
	}
	progress.finish()
	return nil
}
