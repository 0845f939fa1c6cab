package market

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/folio-rl/folio/internal/atomicfile"
)

// WriteCSV writes p as folio CSV files into dir (created if missing), one
// file <asset>.csv per asset with the header timestamp,open,high,low,close,volume,
// RFC3339 UTC open times and numbers in strconv's shortest 'g' form, which
// parses back to the identical float64. Each file is replaced atomically.
// Loading the directory back (with the same asset order) gives a panel with
// the same Fingerprint.
//
// The CSV format has no place for fill flags, so a panel with forward-filled
// bars is refused rather than written as if every bar had traded. Asset names
// must be usable as file names.
func WriteCSV(dir string, p *Panel) error {
	if p.HasFilled() {
		return fmt.Errorf("market: write %s: the panel has forward-filled bars, which folio CSV cannot mark; write the unfilled data instead", dir)
	}
	for i := 0; i < p.N(); i++ {
		if a := p.Asset(i); a == "." || a == ".." || strings.ContainsAny(a, `/\:*?"<>|`+"\x00") || strings.HasPrefix(a, ".") {
			return fmt.Errorf("market: write %s: asset name %q cannot be used as a file name", dir, a)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("market: write: %w", err)
	}
	for i := 0; i < p.N(); i++ {
		path := filepath.Join(dir, p.Asset(i)+".csv")
		if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return writeAsset(w, p, i) }); err != nil {
			return fmt.Errorf("market: write: %w", err)
		}
	}
	return nil
}

// writeAsset writes asset i of p as folio CSV.
func writeAsset(w io.Writer, p *Panel, i int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("timestamp,open,high,low,close,volume\n")
	var buf []byte
	for t := 0; t < p.T(); t++ {
		buf = p.Time(t).AppendFormat(buf[:0], time.RFC3339)
		for _, x := range [...]float64{p.Open(t, i), p.High(t, i), p.Low(t, i), p.Close(t, i), p.Volume(t, i)} {
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
