// Command folio runs reinforcement-learning portfolio experiments on crypto
// markets: it trains PPO and DDPG allocation agents, compares them with
// classic baselines under walk-forward evaluation, exact costs and hard risk
// limits, and writes a report.
//
// Usage:
//
//	folio <command> [flags] [arguments]
//
// Run `folio help` for the list of commands and `folio help <command>` for
// the flags of one command.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C asks for a clean stop (the iteration in flight
	// finishes and is checkpointed); once it is seen, the default handling
	// is restored, so that a second Ctrl-C ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	code := exitCode(ctx, err, os.Stderr)
	stop()
	os.Exit(code)
}
