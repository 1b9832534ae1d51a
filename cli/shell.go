package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/seichedb/seiche/cli/shell"
	"github.com/seichedb/seiche/engine"
)

func init() { register(newShellCommand) }

const (
	defaultServerURL = "http://127.0.0.1:8088"
	// defaultShellDataDir is where the shell's embedded server keeps its data, relative to the working
	// directory, so that the next `seiche shell` there finds it again.
	defaultShellDataDir = "seiche-data"
)

// errStatementFailed is the exit status of a script that stopped at a failed statement (already
// printed).
var errStatementFailed = errors.New("shell: stopped at the statement that failed")

func newShellCommand() *cobra.Command {
	var server, file, execute, output, dataDir, listen, httpListen string
	var noEmbedded bool
	cmd := &cobra.Command{
		Use:   "shell",
		Short: "Interactive SQL shell (starts an embedded server when none is running)",
		Long: `The SQL shell: type statements ending with ';' (they may span lines) and see their answers.

It talks to the server at --server (default ` + defaultServerURL + `, env SEICHE_SERVER). When no server
answers at the default address, it starts one in the same process: the broker on 127.0.0.1:9092 (a free
port if that is taken), the REST API on 127.0.0.1:8088, data in ./` + defaultShellDataDir + `; it stops
cleanly when the shell exits, and the next start finds its streams, tables and queries again.

  seiche shell                       interactive
  seiche shell -f script.sql         run a script; stop at the first error (exit status 1)
  seiche shell -e "SHOW STREAMS;"    run statements given on the command line
  ... | seiche shell                 run statements read from a pipe

Type help at the prompt for the shell's own commands.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			p := shellParams{server: server, file: file, execute: execute, output: output, dataDir: dataDir,
				listen: listen, httpListen: httpListen, noEmbedded: noEmbedded}
			p.explicitServer = cmd.Flags().Changed("server") || os.Getenv("SEICHE_SERVER") != ""
			if !p.explicitServer {
				p.server = "http://" + httpListen
			}
			return runShell(ctx, cmd, p)
		},
	}
	def := os.Getenv("SEICHE_SERVER")
	if def == "" {
		def = defaultServerURL
	}
	cmd.Flags().StringVar(&server, "server", def, "URL of the server's REST API (env SEICHE_SERVER)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "run the statements of this file and exit")
	cmd.Flags().StringVarP(&execute, "execute", "e", "", "run these statements and exit")
	cmd.Flags().StringVar(&output, "output", "TABULAR", "answer format: TABULAR or JSON")
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultShellDataDir, "data directory of the embedded server")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9092", "Kafka listener of the embedded server (a free port if taken)")
	cmd.Flags().StringVar(&httpListen, "http-listen", "127.0.0.1:8088", "REST API of the embedded server, and where the shell looks for a server when --server is not given")
	cmd.Flags().BoolVar(&noEmbedded, "no-embedded", false, "never start an embedded server; fail when none answers")
	return cmd
}

type shellParams struct {
	server, file, execute, output, dataDir string
	listen, httpListen                     string
	explicitServer, noEmbedded             bool
}

func runShell(ctx context.Context, cmd *cobra.Command, p shellParams) error {
	// SIGTERM stops the shell (and its embedded server) cleanly; SIGINT does too, except at the
	// interactive prompt, where it cancels the running statement only.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	stdin := cmd.InOrStdin()
	interactive := p.file == "" && p.execute == "" && isTerminal(stdin) && isTerminal(stdout)
	color := isTerminal(stdout) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"

	url := strings.TrimRight(p.server, "/")
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	client := shell.NewClient(url)
	version, err := probe(ctx, client)
	var embedded *engine.Embedded
	if err != nil {
		var ue *shell.UnreachableError
		if !errors.As(err, &ue) || p.explicitServer || p.noEmbedded {
			return fmt.Errorf("shell: %w", err)
		}
		var stop func()
		if embedded, stop, err = startShellServer(p.dataDir, p.listen, p.httpListen); err != nil {
			return fmt.Errorf("shell: no server answers at %s, and starting one here failed: %w", url, err)
		}
		defer stop()
		client = shell.NewClient(embedded.URL)
		data := filepath.Clean(p.dataDir)
		if !filepath.IsAbs(data) {
			data = "./" + data
		}
		fmt.Fprintf(stderr, "No server at %s: started one here (broker %s, REST %s, data %s); it stops when the shell exits.\n",
			url, embedded.Bootstrap, embedded.URL, data)
	} else if interactive {
		fmt.Fprintf(stderr, "Connected to the Seiche server at %s (version %s).\n", url, version)
	}

	width := func() int { return terminalWidth(stdout) }
	sh := shell.New(shell.Options{Client: client, Out: stdout, Err: stderr, Color: color, Width: width,
		HistoryFile: historyFile(), Dir: "."})
	if err := sh.SetOutput(p.output); err != nil {
		return fmt.Errorf("shell: --output: %w", err)
	}
	if !interactive {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
		defer stop()
	}
	var runErr error
	switch {
	case p.execute != "":
		runErr = sh.Script(ctx, strings.NewReader(p.execute))
	case p.file != "":
		f, err := os.Open(p.file)
		if err != nil {
			return fmt.Errorf("shell: %w", err)
		}
		defer f.Close()
		runErr = sh.Script(ctx, f)
	case interactive:
		fmt.Fprintln(stderr, "Type help for help, exit or Ctrl-D to leave.")
		runErr = sh.Interactive(ctx)
	default:
		runErr = sh.Script(ctx, stdin)
	}
	var se *shell.StatementError
	if errors.As(runErr, &se) {
		return errStatementFailed
	}
	return runErr
}

// probe asks the server at client's URL who it is, briefly: nothing answering there is the common
// case of a first start.
func probe(ctx context.Context, c *shell.Client) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.Info(ctx)
}

// startShellServer starts the embedded server for the shell: the broker on listen and the REST API on
// httpListen, each on a free port when its own is taken, logging to server.log in the data directory.
func startShellServer(dataDir, listen, httpListen string) (*engine.Embedded, func(), error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(dataDir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))
	x, err := engine.StartEmbedded(engine.EmbeddedConfig{
		DataDir:    dataDir,
		BrokerAddr: freeOr(listen),
		HTTPAddr:   freeOr(httpListen),
		Logger:     logger,
	})
	if err != nil {
		logFile.Close()
		return nil, nil, err
	}
	return x, func() {
		if err := x.Close(); err != nil {
			logger.Error("embedded server stopped with an error", "err", err)
		}
		logFile.Close()
	}, nil
}

// freeOr returns addr when it can be listened on now, else a free port on the same host.
func freeOr(addr string) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		host, _, _ := net.SplitHostPort(addr)
		return net.JoinHostPort(host, "0")
	}
	ln.Close()
	return addr
}

func isTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

func terminalWidth(v io.Writer) int {
	f, ok := v.(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}

// historyFile is where the interactive shell keeps its history: seiche/history under the user's
// configuration directory.
func historyFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "seiche", "history")
}
