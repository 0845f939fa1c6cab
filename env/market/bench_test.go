package market

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/folio-rl/folio/internal/realdata"
	"github.com/folio-rl/folio/internal/seed"
)

// benchCSV renders n hourly random-walk bars in the given format.
func benchCSV(b *testing.B, format Format, n int) []byte {
	b.Helper()
	s := randomSeries(seed.New(1, seed.Test, 9), "BTCUSDT", time.Hour, n, 0)
	var buf bytes.Buffer
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch format {
	case FormatFolio:
		// Exchange precision: 5 significant digits of price, 8 decimals of volume.
		buf.WriteString("timestamp,open,high,low,close,volume\n")
		for k := range s.Times {
			fmt.Fprintf(&buf, "%s,%.5g,%.5g,%.5g,%.5g,%.8f\n", rfc3339(s.Times[k]), s.Open[k], s.High[k]*1.0001, s.Low[k]*0.9999, s.Close[k], s.Volume[k])
		}
	case "folio-g17":
		// Full float64 precision, as WriteCSV writes simulated data.
		buf.WriteString("timestamp,open,high,low,close,volume\n")
		for k := range s.Times {
			fmt.Fprintf(&buf, "%s,%s,%s,%s,%s,%s\n", rfc3339(s.Times[k]), g(s.Open[k]), g(s.High[k]), g(s.Low[k]), g(s.Close[k]), g(s.Volume[k]))
		}
	case FormatBinance:
		for k := range s.Times {
			ms := s.Times[k] * 1000
			fmt.Fprintf(&buf, "%d,%.8f,%.8f,%.8f,%.8f,%.8f,%d,%.8f,%d,%.8f,%.8f,0\n", ms, s.Open[k], s.High[k], s.Low[k], s.Close[k], s.Volume[k],
				ms+3599999, s.Volume[k]*s.Close[k], 1000+k%977, s.Volume[k]/2, s.Volume[k]*s.Close[k]/2)
		}
	case FormatCDD:
		buf.WriteString("https://www.CryptoDataDownload.com\nunix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount\n")
		for k := len(s.Times) - 1; k >= 0; k-- {
			fmt.Fprintf(&buf, "%d,%s,BTC/USDT,%.2f,%.2f,%.2f,%.2f,%.8f,%.2f,%d\n", s.Times[k]*1000, unixUTC(s.Times[k]).Format(time.DateTime),
				s.Open[k], s.High[k]+0.01, s.Low[k]-0.01, s.Close[k], s.Volume[k], s.Volume[k]*s.Close[k], 1000+k%977)
		}
	}
	return buf.Bytes()
}

// BenchmarkParseCSV measures parsing and validating one file held in memory
// (60,000 hourly bars, about 7 years), in MB/s of CSV text. folio-g17 is
// folio CSV with 17 significant digits (WriteCSV of simulated prices), which
// takes strconv's slower path.
func BenchmarkParseCSV(b *testing.B) {
	for _, f := range []Format{FormatFolio, "folio-g17", FormatBinance, FormatCDD} {
		data := benchCSV(b, f, 60_000)
		b.Run("format="+string(f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if r := parseCSV("BTCUSDT.csv", data, FormatAuto, false); len(r.errs) > 0 {
					b.Fatal(r.errs[0])
				}
			}
		})
	}
}

// BenchmarkLoadRealHourly loads ../shared/data/real/hourly (8 files, ~26 MB)
// into a forward-filled panel: read, validate, align, build, fingerprint.
func BenchmarkLoadRealHourly(b *testing.B) {
	dir := realdata.Dir(b, "hourly")
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	var size int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Load([]string{dir}, LoadOptions{Fill: FillForward, MaxFillGap: 4}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAlign builds a panel from 8 series of 60,000 hourly bars, each
// with gaps to fill.
func BenchmarkAlign(b *testing.B) {
	rng := seed.New(2, seed.Test, 10)
	series := make([]*Series, 8)
	for i := range series {
		s := randomSeries(rng, fmt.Sprintf("A%d", i), time.Hour, 60_000, 0.001)
		shift := ts("2020-01-01T00:00:00Z") - s.Times[0] // common start
		for k := range s.Times {
			s.Times[k] += shift
		}
		series[i] = s
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Align(series, AlignOptions{Fill: FillForward, MaxFillGap: 10}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResample aggregates 60,000 hourly bars to 4h and to 1d.
func BenchmarkResample(b *testing.B) {
	s := randomSeries(seed.New(3, seed.Test, 11), "R", time.Hour, 60_000, 0.001)
	for _, target := range []time.Duration{4 * time.Hour, 24 * time.Hour} {
		b.Run("target="+dur(target), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Resample(s, target); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
