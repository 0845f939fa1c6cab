package experiments

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/baseline"
	"github.com/folio-rl/folio/eval"
)

// newBaseline builds a baseline policy from the [baselines] settings.
func (c *Config) newBaseline(method string) (agents.Policy, error) {
	p, err := baseline.New(method, c.Baselines.BaselineSettings)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", method, err)
	}
	return &fallbackCounter{Policy: p}, nil
}

// fallbackCounter exposes a baseline's fallbacks as counts by kind.
type fallbackCounter struct{ *baseline.Policy }

// Fallbacks counts the policy's optimisation fallbacks by kind.
func (f *fallbackCounter) Fallbacks() map[string]int {
	out := map[string]int{}
	for _, fb := range f.Diagnostics().Fallbacks {
		out[fb.Kind]++
	}
	return out
}

// describeBaseline says what a baseline is, with its key settings.
func (c *Config) describeBaseline(m string) string {
	b := c.Baselines
	switch m {
	case "equal-weight":
		if b.DriftBand > 0 {
			return fmt.Sprintf("1/N, rebalanced when a weight drifts more than %g", b.DriftBand)
		}
		return fmt.Sprintf("1/N, rebalanced every %d bar(s)", b.RebalanceEvery)
	case "buy-and-hold":
		return "1/N bought at the start of each test window, then held"
	case "cash":
		return "all cash"
	case "inverse-vol", "risk-parity", "min-variance", "hrp":
		return fmt.Sprintf("%s on the trailing %d bars (%s covariance), rebalanced every %d bar(s)", m, b.Lookback, b.Cov, b.RebalanceEvery)
	case "mean-variance":
		return fmt.Sprintf("maximise μ'w − λ/2·w'Σw, λ = %g, on the trailing %d bars (%s covariance)", b.Lambda, b.Lookback, b.Cov)
	case "max-sharpe", "efficient-return", "risk-budget", "black-litterman":
		return fmt.Sprintf("%s on the trailing %d bars (%s covariance)", m, b.Lookback, b.Cov)
	case "bsh":
		return "best stock in hindsight: uses future prices, NOT implementable"
	}
	return m + " (online portfolio selection)"
}

// describe summarises an agent's configuration.
func (a *Agent) describe() string {
	var parts []string
	if a.Type == "ddpg" {
		d := a.DDPG
		algo := "DDPG"
		if d.TwinCritics {
			algo = "TD3"
		}
		parts = append(parts, algo, fmt.Sprintf("hidden %v", d.Hidden), "embedding "+d.Embedding, fmt.Sprintf("vol_timing %v", d.VolTiming))
	} else {
		p := a.PPO
		parts = append(parts, "PPO", fmt.Sprintf("hidden %v", p.Hidden), "embedding "+p.Embedding, fmt.Sprintf("vol_timing %v", p.VolTiming))
	}
	parts = append(parts, fmt.Sprintf("%d env steps per fold", a.Train.TotalSteps))
	return strings.Join(parts, ", ")
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// renderPNG renders report.html to report.png with headless Chromium.
func renderPNG(dir string) error {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		return fmt.Errorf("chromium is not installed (Debian: apt-get install chromium)")
	}
	return eval.RenderPNG(bin, filepath.Join(dir, eval.ReportHTML), filepath.Join(dir, "report.png"))
}
