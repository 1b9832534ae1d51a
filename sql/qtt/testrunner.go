package qtt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// RunnerCase builds a case from ksqlDB's ksql-test-runner format: a SQL script, an input file
// {"inputs": [records]} and an output file {"outputs": [records]} (records as in QTT files).
func RunnerCase(name, statements string, input, output []byte) (*Case, error) {
	c := &Case{Name: name, Statements: []string{statements}}
	var in struct {
		Inputs []Record `json:"inputs"`
	}
	var out struct {
		Outputs []Record `json:"outputs"`
	}
	if err := decodeStrict(input, &in); err != nil {
		return nil, fmt.Errorf("qtt: input file: %w", err)
	}
	if err := decodeStrict(output, &out); err != nil {
		return nil, fmt.Errorf("qtt: output file: %w", err)
	}
	c.Inputs, c.Outputs = in.Inputs, out.Outputs
	return c, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(StripComments(data)))
	dec.UseNumber()
	return dec.Decode(v)
}

// RunCase runs a single case that has no format variants (a ksql-test-runner case), as Run does.
func RunCase(ctx context.Context, c *Case) Result {
	return Run(ctx, Variant{ID: c.Name, Case: c, Statements: c.Statements})
}
