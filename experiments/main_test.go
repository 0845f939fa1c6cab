package experiments

import (
	_ "github.com/folio-rl/folio/internal/golden" // registers -update
)
