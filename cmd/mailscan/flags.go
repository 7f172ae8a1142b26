package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// listFlag is a flag that may be given many times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// maxDuration bounds every duration flag: a day is more than any timeout,
// cooldown or interval of a scan needs, and it keeps a typo such as 1e300
// from overflowing a time.Duration.
const maxDuration = 24 * time.Hour

// secondsFlag is a duration given as seconds ("8", "0.5") or a Go duration
// ("8s", "500ms"), from 0 to maxDuration.
type secondsFlag struct{ d *time.Duration }

func (f secondsFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f secondsFlag) Set(s string) error {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || v < 0 || v > maxDuration.Seconds() {
			return fmt.Errorf("%q: want seconds from 0 to %.0f (a day)", s, maxDuration.Seconds())
		}
		*f.d = time.Duration(v * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > maxDuration {
		return fmt.Errorf("bad duration %q (want seconds, e.g. 8, or a duration, e.g. 500ms, up to 24h)", s)
	}
	*f.d = d
	return nil
}

// checkRange is the check of every numeric flag: a finite number from lo
// to hi. NaN and the infinities parse as floats; they must never reach the
// scanner as "unlimited".
func checkRange(name string, v, lo, hi float64, unit string) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		return usagef("%s %v: want %s from %g to %g", name, v, unit, lo, hi)
	}
	return nil
}

// parseBandwidth reads bits per second with an optional K, M or G suffix
// (powers of 1000, as network rates are quoted): "100M", "1G", "64000".
func parseBandwidth(s string) (float64, error) {
	mult := 1.0
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s), "BPS"), "B")
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult, t = 1e3, t[:len(t)-1]
		case 'M':
			mult, t = 1e6, t[:len(t)-1]
		case 'G':
			mult, t = 1e9, t[:len(t)-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v*mult > 1e12 {
		return 0, fmt.Errorf("bad bandwidth %q (want bits per second above 0 and at most 1T, e.g. 100M or 1G)", s)
	}
	return v * mult, nil
}
