package function

// ParseTimestamp parses s with a Java DateTimeFormatter pattern in UTC (a source's TIMESTAMP_FORMAT)
// and returns milliseconds since the epoch.
func ParseTimestamp(s, pattern string) (int64, error) { return parseTS(s, pattern, "") }
