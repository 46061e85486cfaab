// Package pkgtest tests Entitle's installers end to end: it builds them with
// installer/build.sh from the real binaries, inspects the .deb, .rpm and .msi,
// installs the Linux packages for real in a throwaway copy of this computer
// (an overlay over / in a private mount namespace, see testdata/sandbox.sh),
// and drives `entitle service install|status|uninstall` the same way.
//
// The tests need root, nfpm v2.45.2, dpkg, rpm, wixl, msitools, unshare and
// nsenter; .ci/run provides them. Under CI=true a missing one fails the test.
package pkgtest
