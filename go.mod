module github.com/slipway-ci/slipway

go 1.26

require (
	github.com/google/go-containerregistry v0.22.0 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
