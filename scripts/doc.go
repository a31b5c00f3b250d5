// Package scripts holds the Go tests of the shell scripts in this
// directory; it has no code of its own. install_test.go runs install.sh
// against a fake release served from a local HTTP server.
package scripts
