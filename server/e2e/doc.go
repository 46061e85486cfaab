// Package e2e holds the licensing server's end-to-end tests: they build the
// real entitle-server binary, run it as a process on loopback against SQLite
// and PostgreSQL, and drive it over HTTP and through its command line the way
// agents, browsers and operators do. It also holds the HTTP benchmarks.
package e2e
