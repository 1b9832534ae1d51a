package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seichedb/seiche/sql/qtt"
)

func init() { register(newTestCommand) }

// errTestsFailed is returned (exit status 1) when a test case failed.
var errTestsFailed = errors.New("test: some cases failed")

func newTestCommand() *cobra.Command {
	var caseRE, statements, input, output, rest string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [FILE|DIR]",
		Short: "Run ksqlDB query-validation tests (QTT JSON files) or a ksql-test-runner test",
		Long: `Run SQL tests on the server's engine in process, each query on a synchronous test driver with
record caching off, as ksqlDB does.

  seiche test FILE|DIR [--case REGEX]     runs QTT JSON files (a directory: every *.json in it)
  seiche test --statements s.sql --input in.json --output out.json
                                          runs a ksql-test-runner test
  seiche test --rest FILE|DIR [--case REGEX]
                                          runs ksqlDB REST test files against an embedded server
                                          (broker, engine and REST API on free loopback ports)

Each case prints pass, fail (with a diff of expected and actual records or errors) or skip (with the
reason), and the run ends with "N passed, N failed, N skipped". The exit status is 1 if a case failed.
Over a directory, progress (files done of the total, cases run, time taken) goes to stderr: one
line updated in place on a terminal, a line per file otherwise.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			var re *regexp.Regexp
			if caseRE != "" {
				var err error
				if re, err = regexp.Compile(caseRE); err != nil {
					return fmt.Errorf("test: --case: %w", err)
				}
			}
			var sum testSummary
			switch {
			case rest != "":
				if len(args) > 0 {
					return errors.New("test: --rest takes the FILE or DIR itself")
				}
				if err := runRESTTests(cmd.Context(), out, cmd.ErrOrStderr(), rest, re, verbose, &sum); err != nil {
					return err
				}
			case statements != "" || input != "" || output != "":
				if len(args) > 0 || statements == "" || input == "" || output == "" {
					return errors.New("test: --statements, --input and --output go together, without a FILE")
				}
				c, err := runnerCase(statements, input, output)
				if err != nil {
					return err
				}
				r := qtt.RunCase(cmd.Context(), c)
				sum.report(out, c.Name, r, verbose)
				if r.Status == qtt.Pass {
					fmt.Fprintln(out, ">>> Test passed!")
				}
			case len(args) == 1:
				files, err := loadQTT(args[0])
				if err != nil {
					return err
				}
				progress := newTestProgress(cmd.ErrOrStderr(), len(files))
				for _, f := range files {
					n := 0
					for _, v := range f.Variants() {
						if re != nil && !re.MatchString(v.ID) && !re.MatchString(v.Case.Name) {
							continue
						}
						sum.report(out, v.ID, qtt.Run(cmd.Context(), v), verbose)
						n++
					}
					progress.fileDone(filepath.Base(f.Path), n)
				}
				progress.finish()
			default:
				return errors.New("test: give a QTT FILE or DIR, or --statements, --input and --output")
			}
			fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", sum.passed, sum.failed, sum.skipped)
			if sum.failed > 0 {
				return errTestsFailed
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&caseRE, "case", "", "run only the cases whose id or name matches this regular expression")
	cmd.Flags().StringVar(&statements, "statements", "", "ksql-test-runner: the SQL statements file")
	cmd.Flags().StringVar(&input, "input", "", "ksql-test-runner: the input records file")
	cmd.Flags().StringVar(&output, "output", "", "ksql-test-runner: the expected output records file")
	cmd.Flags().StringVar(&rest, "rest", "", "run ksqlDB REST test files (a FILE or DIR) against an embedded server")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print passing and skipped cases too")
	return cmd
}

type testSummary struct{ passed, failed, skipped int }

func (s *testSummary) report(w io.Writer, id string, r qtt.Result, verbose bool) {
	s.reportStatus(w, id, r.Status.String(), r.Reason, r.Detail, verbose)
}

func (s *testSummary) reportStatus(w io.Writer, id, status, reason, detail string, verbose bool) {
	r := struct{ Reason, Detail string }{reason, detail}
	switch status {
	case "pass":
		s.passed++
		if verbose {
			fmt.Fprintf(w, "pass  %s\n", id)
		}
	case "skip":
		s.skipped++
		if verbose {
			fmt.Fprintf(w, "skip  %s: %s\n", id, r.Reason)
		}
	default:
		s.failed++
		fmt.Fprintf(w, "FAIL  %s: %s\n", id, r.Reason)
		if r.Detail != "" {
			for _, line := range strings.Split(strings.TrimRight(r.Detail, "\n"), "\n") {
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
	}
}

func loadQTT(path string) ([]*qtt.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("test: %w", err)
	}
	if st.IsDir() {
		return qtt.LoadDir(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("test: %w", err)
	}
	f, err := qtt.Parse(path, data)
	if err != nil {
		return nil, err
	}
	return []*qtt.File{f}, nil
}

func runnerCase(statements, input, output string) (*qtt.Case, error) {
	sql, err := os.ReadFile(statements)
	if err != nil {
		return nil, fmt.Errorf("test: %w", err)
	}
	in, err := os.ReadFile(input)
	if err != nil {
		return nil, fmt.Errorf("test: %w", err)
	}
	out, err := os.ReadFile(output)
	if err != nil {
		return nil, fmt.Errorf("test: %w", err)
	}
	return qtt.RunnerCase(statements, string(sql), in, out)
}
