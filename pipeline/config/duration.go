package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as Go does ("90m", "48h") or in whole
// days ("7d", "14d"), the unit retention policies are usually spoken in.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d in days when it is a whole number of them, else as Go
// does without its trailing zero units ("20m", not "20m0s"). ParseDuration
// reads it back.
func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	s := td.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// maxDays is the most days a time.Duration holds.
const maxDays = int64(1<<63-1) / int64(24*time.Hour)

// ParseDuration parses a duration: whole days ("7d"; days stand alone,
// "1d12h" is refused), or anything time.ParseDuration reads ("36h", "90m",
// "1h30m"). Negative values are refused.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		switch {
		case err != nil || n[0] == '+':
			return 0, fmt.Errorf("%q is not a duration", s)
		case days < 0:
			return 0, fmt.Errorf("%q is negative", s)
		case days > maxDays:
			return 0, fmt.Errorf("%q is too long", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return Duration(d), nil
}
