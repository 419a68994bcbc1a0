package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// The custom types read and write YAML and JSON in the shape slipway.yaml
// has: a Duration is "20m" or "7d", a Matrix an ordered mapping of axis to
// values, a Command a string (shell form) or a list (exec form). Load does
// not go through UnmarshalYAML (it walks the nodes itself, to know field
// paths), but both share the same decoding.

// MarshalText writes d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads d with ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes d as String does.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a scalar with ParseDuration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeDuration(resolve(n))
	if err != nil {
		return &FieldError{Line: n.Line, Msg: err.Error()}
	}
	*d = v
	return nil
}

// MarshalYAML writes the exec form as a list, the shell form as a string.
func (c Command) MarshalYAML() (any, error) {
	if c.Args != nil {
		return c.Args, nil
	}
	return c.Shell, nil
}

// UnmarshalYAML reads a string (shell form) or a list of strings (exec form).
func (c *Command) UnmarshalYAML(n *yaml.Node) error {
	d := &decoder{lines: map[string]int{}}
	d.command(resolve(n), n.Line, reflect.ValueOf(c).Elem(), "run")
	return d.err()
}

// MarshalJSON writes the exec form as an array, the shell form as a string.
func (c Command) MarshalJSON() ([]byte, error) {
	if c.Args != nil {
		return json.Marshal(c.Args)
	}
	return json.Marshal(c.Shell)
}

// UnmarshalJSON reads a string (shell form) or an array of strings.
func (c *Command) UnmarshalJSON(b []byte) error {
	var v Command
	if err := json.Unmarshal(b, &v.Shell); err == nil {
		*c = v
		return nil
	}
	if err := json.Unmarshal(b, &v.Args); err != nil {
		return fmt.Errorf("a command is a string or an array of strings: %w", err)
	}
	*c = v
	return nil
}

// MarshalYAML writes the axes as a mapping, in order.
func (m Matrix) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, a := range m {
		k, v := &yaml.Node{}, &yaml.Node{}
		values := a.Values
		if values == nil {
			values = []string{}
		}
		if err := k.Encode(a.Name); err != nil {
			return nil, err
		}
		if err := v.Encode(values); err != nil {
			return nil, err
		}
		v.Style = yaml.FlowStyle
		n.Content = append(n.Content, k, v)
	}
	return n, nil
}

// UnmarshalYAML reads a mapping of axis names to lists of values, in order.
func (m *Matrix) UnmarshalYAML(n *yaml.Node) error {
	d := &decoder{lines: map[string]int{}}
	d.matrix(resolve(n), n.Line, reflect.ValueOf(m).Elem(), "matrix")
	return d.err()
}

// MarshalJSON writes the axes as an object, in order.
func (m Matrix) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, a := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(a.Name)
		if err != nil {
			return nil, err
		}
		values := a.Values
		if values == nil {
			values = []string{}
		}
		v, err := json.Marshal(values)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object of axis names to arrays of strings, in
// order.
func (m *Matrix) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("a matrix is an object of axis names to arrays of values")
	}
	var out Matrix
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		a := Axis{Name: t.(string)}
		if err := dec.Decode(&a.Values); err != nil {
			return fmt.Errorf("matrix axis %q: %w", a.Name, err)
		}
		out = append(out, a)
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	*m = out
	return nil
}

// err is the decoder's problems as an error, nil when none.
func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	return d.errs
}
