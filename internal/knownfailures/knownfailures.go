// Package knownfailures keeps the lists behind Seiche's conformance ratchets (ksqlDB's QTT and REST
// corpora): a file of known failing cases, one "case id TAB reason" per line, that only shrinks. A case
// failing that is not listed is a regression; a listed case that passes must be removed.
package knownfailures

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Load reads a known-failures file: case id to reason. A missing file is an empty list; blank lines
// and lines starting with # are skipped.
func Load(path string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return out, nil
		}
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, "\t")
		out[id] = reason
	}
	return out, sc.Err()
}

// Write writes failures, sorted by case id, after header (comment lines, each starting with #). Reasons
// must already be one line (OneLine).
func Write(path, header string, failures map[string]string) error {
	ids := make([]string, 0, len(failures))
	for id := range failures {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	b.WriteString(header)
	for _, id := range ids {
		b.WriteString(id + "\t" + failures[id] + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// Diff compares this run's failures with the known ones in path and returns one message per
// difference, sorted: new failures, and listed cases that now pass.
func Diff(path string, known, failures map[string]string) []string {
	var msgs []string
	for id, reason := range failures {
		if _, ok := known[id]; !ok {
			msgs = append(msgs, fmt.Sprintf("new failure (not in %s): %s: %s", path, id, reason))
		}
	}
	for id := range known {
		if _, ok := failures[id]; !ok {
			msgs = append(msgs, fmt.Sprintf("listed in %s but now passes (remove it, or run with -rewrite): %s", path, id))
		}
	}
	sort.Strings(msgs)
	return msgs
}

// OneLine makes a reason fit on its line: tabs and newlines escaped, at most 300 bytes.
func OneLine(s string) string {
	s = strings.ReplaceAll(s, "\t", " ")
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
