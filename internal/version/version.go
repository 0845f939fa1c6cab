// Package version reports the code version of the running binary from its
// build information, for run provenance.
package version

import (
	"runtime"
	"runtime/debug"
)

// Info describes the build of the running binary.
type Info struct {
	Module    string `json:"module"`
	Version   string `json:"version"`            // module version, "(devel)" for a local build
	Revision  string `json:"revision,omitempty"` // VCS revision, when the build recorded it
	Time      string `json:"vcs_time,omitempty"` // VCS commit time
	Modified  bool   `json:"modified,omitempty"` // working tree had uncommitted changes
	GoVersion string `json:"go_version"`
}

// String returns a short human-readable version.
func (i Info) String() string {
	s := i.Version
	if i.Revision != "" {
		r := i.Revision
		if len(r) > 12 {
			r = r[:12]
		}
		s += " " + r
		if i.Modified {
			s += "+dirty"
		}
	} else {
		s += " (no VCS revision recorded: build with -buildvcs=true inside the git checkout)"
	}
	return s + " " + i.GoVersion
}

// Get reads the build information of the running binary.
func Get() Info {
	info := Info{Module: "github.com/folio-rl/folio", Version: "(unknown)", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if bi.Main.Path != "" {
		info.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}
