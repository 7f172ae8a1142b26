package main

var cmdBanner = &command{name: "banner", short: "TCP/TLS dialogue with each hit: hit list → results (JSON lines)"}
var cmdRun = &command{name: "run", short: "both stages in one process, streaming"}
var cmdReport = &command{name: "report", short: "exposure tables from banner results"}
var cmdFingerprint = &command{name: "fingerprint", short: "name the software behind greeting lines read on stdin"}
