module dagger/slipway-tests

go 1.26

require dagger.io/dagger v0.21.8
