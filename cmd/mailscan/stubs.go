package main

var cmdRun = &command{name: "run", short: "both stages in one process, streaming"}
var cmdReport = &command{name: "report", short: "exposure tables from banner results"}
