// Package version holds the build's version string, set at link time.
package version

// Version is overwritten by the linker (-X) in release builds.
var Version = "dev"
