//go:build !upgradetest

package upgrade

// testHandlers is empty in production builds; handlers_upgradetest.go
// fills it when built with -tags upgradetest.
var testHandlers []Handler
