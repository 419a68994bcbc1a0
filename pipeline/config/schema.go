package config

import _ "embed" // for Schema

// Schema is the JSON Schema (draft 2020-12) of slipway.yaml, for editors:
// e.g. a "# yaml-language-server: $schema=..." comment or a
// yaml.schemas setting. A test keeps it in step with the Go types.
//
//go:embed slipway.schema.json
var Schema []byte
