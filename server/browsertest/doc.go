// Package browsertest drives the licensing server's web pages in a real
// headless Chromium with JavaScript turned off: the device-authorization
// pages, the account page and the CSRF protection of their forms, against the
// real entitle-server binary. The tests also save full-page screenshots of
// the pages to the temporary folder (entitle-shots) for people to look at.
package browsertest
