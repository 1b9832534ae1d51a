package ir

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// units are the time units of ksqlDB's durations (WINDOW_SIZE '30 SECONDS', SIZE 1 HOUR), singular
// and plural.
var units = map[string]time.Duration{
	"NANOSECOND": time.Nanosecond, "MICROSECOND": time.Microsecond, "MILLISECOND": time.Millisecond,
	"SECOND": time.Second, "MINUTE": time.Minute, "HOUR": time.Hour, "DAY": 24 * time.Hour,
}

// ParseDuration reads a duration as ksqlDB writes it in properties: a whole number and a time unit,
// singular or plural, in any case ('30 SECONDS', '1 hour').
func ParseDuration(text string) (time.Duration, error) {
	parts := strings.Fields(text)
	if len(parts) != 2 {
		return 0, fmt.Errorf("Invalid duration: '%s'. Expected '<number> <time unit>', e.g. '30 SECONDS'", text)
	}
	n, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("Invalid duration: '%s'. Not a number: '%s'", text, parts[0])
	}
	unit := strings.ToUpper(parts[1])
	d, ok := units[strings.TrimSuffix(unit, "S")]
	if !ok {
		return 0, fmt.Errorf("Invalid duration: '%s'. Unknown time unit: '%s'", text, unit)
	}
	return time.Duration(n) * d, nil
}

// Millis renders d as the WINDOW_SIZE property of a sink ('60000 MILLISECONDS').
func Millis(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + " MILLISECONDS"
}
