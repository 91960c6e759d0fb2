//go:build !unix

package main

import "errors"

// freeDisk is unknown off Unix; /readyz then skips the PORTABOT_MIN_FREE
// check rather than guess.
func freeDisk(string) (uint64, error) {
	return 0, errors.New("free disk space is not measured on this system")
}
