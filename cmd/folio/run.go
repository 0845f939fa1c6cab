package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/folio-rl/folio/experiments"
	"io"
	"sort"
	"strings"
)

// usageError marks a command-line mistake: exit code 2 and a pointer to help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitCode maps an error to the process exit code: 0 ok, 2 usage,
// 130 interrupted, 1 anything else. It prints the error to stderr.
func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ue *usageError
	switch {
	case errors.As(err, &ue) || experiments.IsUsageError(err):
		fmt.Fprintf(stderr, "folio: %v\nRun 'folio help' for usage.\n", err)
		return 2
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		fmt.Fprintf(stderr, "folio: interrupted: %v\n", err)
		return 130
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(stderr, "folio: %v\n", err)
	return 1
}

// action runs a command with its positional arguments after flag parsing.
type action func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// command is one folio subcommand. setup defines the command's flags on fs,
// bound to fresh variables, and returns the action that reads them; help
// output calls setup on a throw-away flag set.
type command struct {
	name    string
	args    string // argument synopsis
	summary string // one line
	help    string // longer help, printed by `folio help NAME`
	setup   func(fs *flag.FlagSet) action
}

func (c *command) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("folio "+c.name, flag.ContinueOnError)
	act := c.setup(fs)
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(stdout, c)
		return nil
	}
	if err != nil {
		return err
	}
	return act(ctx, pos, stdout, stderr)
}

func commands() []*command {
	return []*command{
		cmdRun(), cmdCheck(), cmdConfig(), cmdTrain(), cmdEval(), cmdReport(),
		cmdBacktest(), cmdOptimize(), cmdData(), cmdVersion(),
	}
}

const overview = `folio — reinforcement-learning allocation of crypto portfolios

Usage:
  folio <command> [flags] [arguments]

Start here:
  folio run experiments/quickstart.toml    run the quickstart on the built-in synthetic market
  folio check FILE                          validate an experiment file, print it with defaults
  folio config --doc                        every configuration key: meaning, unit, default, range

Commands:
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 {
		printOverview(stderr, cmds)
		return usagef("no command given")
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			for _, c := range cmds {
				if c.name == args[1] {
					printCommandHelp(stdout, c)
					return nil
				}
			}
			return usagef("unknown command %q", args[1])
		}
		printOverview(stdout, cmds)
		return nil
	case "-version", "--version":
		name = "version"
	}
	for _, c := range cmds {
		if c.name == name {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	if s := closest(name, names); s != "" {
		return usagef("unknown command %q (did you mean %q?)", name, s)
	}
	return usagef("unknown command %q", name)
}

func printOverview(w io.Writer, cmds []*command) {
	fmt.Fprint(w, overview)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'folio help <command>' for the flags of a command.\n"+
		"Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted.\n")
}

func printCommandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: folio %s %s\n\n%s\n", c.name, c.args, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.help, "\n"))
	}
	fs := flag.NewFlagSet("folio "+c.name, flag.ContinueOnError)
	c.setup(fs)
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s\n", strings.TrimRight(b.String(), "\n"))
	}
}

// parseFlags parses flags that may appear before, between or after the
// positional arguments (`folio run FILE --set a=b` works), returning the
// positional arguments. A lone "--" ends flag parsing.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func closest(s string, names []string) string {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	best, bestD := "", 3
	for _, n := range sorted {
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev = cur
	}
	return prev[len(b)]
}
