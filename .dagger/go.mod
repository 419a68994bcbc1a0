module dagger/slipway

go 1.26.1

require (
	dagger.io/dagger v0.21.8
	github.com/slipway-ci/slipway v0.0.0
)

replace github.com/slipway-ci/slipway => ../
