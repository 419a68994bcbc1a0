package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxReportBytes bounds a report JSON file ReadJSON accepts: 256 MiB.
const MaxReportBytes = 256 << 20

// WriteJSON writes r as indented JSON (schema Version). An empty Version is
// written as the current one.
func (r *Report) WriteJSON(w io.Writer) error {
	out := *r
	if out.Version == 0 {
		out.Version = Version
	}
	if out.Cells == nil {
		out.Cells = []CellResult{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("writing report JSON: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON and validates it. Input over
// MaxReportBytes, trailing data, or an invalid report is an error.
func ReadJSON(r io.Reader) (*Report, error) {
	lr := &io.LimitedReader{R: r, N: MaxReportBytes + 1}
	dec := json.NewDecoder(lr)
	var rep Report
	err := dec.Decode(&rep)
	if lr.N <= 0 {
		return nil, fmt.Errorf("reading report JSON: larger than %d MiB", MaxReportBytes>>20)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("reading report JSON: empty input")
		}
		return nil, fmt.Errorf("reading report JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("reading report JSON: data after the report")
	}
	if err := rep.Validate(); err != nil {
		return nil, fmt.Errorf("invalid report: %w", err)
	}
	if rep.Cells == nil {
		rep.Cells = []CellResult{}
	}
	return &rep, nil
}
