package main

import "portabot/storage"

// storeFaults are store options that only a test build adds
// (storefaults_inject.go, build tag portabot_faults): the chaos test fills
// the disk of a serve subprocess for a while through them. A production
// build has none.
var storeFaults []storage.Option
