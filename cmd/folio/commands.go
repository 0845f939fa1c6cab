package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/folio-rl/folio/experiments"
	"github.com/folio-rl/folio/internal/version"
)

// runFlags are the flags shared by the commands that run an experiment.
type runFlags struct {
	sets   stringList
	out    string
	jobs   int
	quiet  bool
	resume string
}

// Which flags a command takes besides --set.
const (
	withRunDir = 1 << iota // --out, --resume, --quiet
	withJobs               // --jobs
)

func (r *runFlags) define(fs *flag.FlagSet, with int) {
	fs.Var(&r.sets, "set", "override a configuration key, e.g. --set costs.taker_bps=25 (repeatable)")
	r.jobs = 1
	if with&withRunDir != 0 {
		fs.StringVar(&r.out, "out", "", "run directory to create (default: <experiment.output_dir>/<name>-seed<seed>-<UTC time>)")
	}
	if with&withJobs != 0 {
		fs.IntVar(&r.jobs, "jobs", 1, "seeds to run in parallel goroutines, ≥ 1 (results are identical for any value)")
	}
	if with&withRunDir != 0 {
		fs.BoolVar(&r.quiet, "quiet", false, "no progress bars or status lines on stderr")
		fs.StringVar(&r.resume, "resume", "", "continue an interrupted run in this run directory (not with --out)")
	}
}

// check rejects flag combinations that cannot be honoured.
func (r *runFlags) check() error {
	if r.jobs < 1 {
		return usagef("--jobs %d: must be ≥ 1 (the number of seeds run in parallel)", r.jobs)
	}
	if r.out != "" && r.resume != "" {
		return usagef("--out and --resume together: a resumed run continues in its own directory; drop --out")
	}
	return nil
}

func (r *runFlags) options(stdout, stderr io.Writer) experiments.RunOptions {
	return experiments.RunOptions{Out: r.out, Jobs: r.jobs, Quiet: r.quiet, Resume: r.resume, Stdout: stdout, Stderr: stderr}
}

func oneFile(args []string, what string) (string, error) {
	if len(args) != 1 {
		return "", usagef("expected one %s, got %d arguments", what, len(args))
	}
	return args[0], nil
}

// loadExperiment loads the one experiment file that args must name, with
// the --set overrides applied.
func loadExperiment(args, sets []string) (*experiments.Config, error) {
	file, err := oneFile(args, "experiment file")
	if err != nil {
		return nil, err
	}
	return experiments.Load(file, sets)
}

func cmdRun() *command {
	return &command{
		name: "run", args: "FILE [--set key=value]... [--out DIR] [--jobs N] [--resume DIR] [--quiet]",
		summary: "run an experiment: data → train agents → walk-forward against baselines → report",
		help: `Runs the experiment described in FILE and writes a run directory holding the
resolved configuration, seeds, data fingerprint, code version, metrics logs,
checkpoints, model files and the report (report.html, report.md, report.json,
CSV files). The last line on stdout is the path of report.html.

Ctrl-C stops cleanly after writing checkpoints; 'folio run FILE --resume DIR'
continues an interrupted run to the same result as an uninterrupted one.`,
		setup: func(fs *flag.FlagSet) action {
			var rf runFlags
			rf.define(fs, withRunDir|withJobs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if err := rf.check(); err != nil {
					return err
				}
				cfg, err := loadExperiment(args, rf.sets)
				if err != nil {
					return err
				}
				res, err := experiments.Run(ctx, cfg, rf.options(stdout, stderr))
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "run directory: %s\nreport: %s\n", res.Dir, res.ReportHTML)
				return nil
			}
		},
	}
}

func cmdCheck() *command {
	return &command{
		name: "check", args: "FILE [--set key=value]...",
		summary: "validate an experiment file and print the resolved configuration with every default",
		setup: func(fs *flag.FlagSet) action {
			var rf runFlags
			rf.define(fs, 0)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				cfg, err := loadExperiment(args, rf.sets)
				if err != nil {
					return err
				}
				return cfg.WriteTOML(stdout)
			}
		},
	}
}

func cmdConfig() *command {
	return &command{
		name: "config", args: "--doc",
		summary: "print the configuration reference (every key, unit, default and range)",
		setup: func(fs *flag.FlagSet) action {
			doc := fs.Bool("doc", false, "print the reference in Markdown")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 0 {
					return usagef("config takes no arguments")
				}
				if !*doc {
					return usagef("config needs --doc")
				}
				return experiments.WriteReference(stdout)
			}
		},
	}
}

func cmdTrain() *command {
	return &command{
		name: "train", args: "FILE [--set key=value]... [--out DIR] [--resume DIR] [--quiet]",
		summary: "train the experiment's agents on its data (no walk-forward) and save the models",
		help: `Trains every [agents.NAME] of FILE on the experiment's data range, holding out
the last walkforward.validation bars for model selection, and writes model
files (models/NAME.model), checkpoints and JSON-lines metrics into a run
directory. Evaluate the saved models with 'folio eval RUN_DIR'.

Training uses experiment.seed only: a file with experiment.seeds > 1 is
refused (run several seeds with 'folio run'), and there is no --jobs.`,
		setup: func(fs *flag.FlagSet) action {
			var rf runFlags
			rf.define(fs, withRunDir)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if err := rf.check(); err != nil {
					return err
				}
				cfg, err := loadExperiment(args, rf.sets)
				if err != nil {
					return err
				}
				if n := cfg.Experiment.Seeds; n > 1 {
					return usagef("folio train trains one seed (experiment.seed), but experiment.seeds = %d; run several seeds with 'folio run', or add --set experiment.seeds=1", n)
				}
				res, err := experiments.Train(ctx, cfg, rf.options(stdout, stderr))
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "run directory: %s\n", res.Dir)
				for _, m := range res.Models {
					fmt.Fprintf(stdout, "model: %s\n", m)
				}
				return nil
			}
		},
	}
}

func cmdEval() *command {
	return &command{
		name: "eval", args: "RUN_DIR [--start DATE] [--end DATE] [--set key=value]... [--quiet]",
		summary: "evaluate the models saved by 'folio train' against the baselines and write a report",
		help: `Loads the resolved configuration and the model files of RUN_DIR (made by
'folio train'), backtests every agent and baseline over --start..--end (by
default the bars after the training range) with the experiment's costs and
guard, and writes an evaluation report into RUN_DIR/eval-<start>-<end>/
(eval-<start>-<end>-<hash>/ when --set changes the configuration: <hash> is
the start of the resolved configuration's hash, so evaluations with other
overrides never overwrite each other). Dates are inclusive; a date-only
--end covers its whole UTC day. Evaluating bars inside the training range
gives a report labelled "in sample".`,
		setup: func(fs *flag.FlagSet) action {
			var rf runFlags
			rf.define(fs, 0)
			fs.BoolVar(&rf.quiet, "quiet", false, "no progress on stderr")
			start := fs.String("start", "", "first bar to evaluate (YYYY-MM-DD or RFC3339)")
			end := fs.String("end", "", "last bar to evaluate, inclusive")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				dir, err := oneFile(args, "run directory")
				if err != nil {
					return err
				}
				res, err := experiments.Eval(ctx, dir, experiments.EvalOptions{
					Start: *start, End: *end, Sets: rf.sets, Quiet: rf.quiet, Stdout: stdout, Stderr: stderr})
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "report: %s\n", res.ReportHTML)
				return nil
			}
		},
	}
}

func cmdReport() *command {
	return &command{
		name: "report", args: "RUN_DIR",
		summary: "regenerate the report of a run directory (byte-identical to the original)",
		setup: func(fs *flag.FlagSet) action {
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				dir, err := oneFile(args, "run directory")
				if err != nil {
					return err
				}
				res, err := experiments.Report(dir)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "report: %s\n", res.ReportHTML)
				return nil
			}
		},
	}
}

func cmdVersion() *command {
	return &command{
		name: "version", summary: "print the code version",
		setup: func(fs *flag.FlagSet) action {
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				fmt.Fprintln(stdout, "folio", version.Get())
				return nil
			}
		},
	}
}
