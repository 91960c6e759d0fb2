package storage

// WithWriteFault makes every commit to either file first ask fault, and fail,
// rolled back, with the error it returns, as a commit on a full or failing
// disk does; nil lets the commit through. It is the seam through which tests
// fill the disk for a while and empty it again (the chaos test, the full-disk
// tests) without a real full filesystem; production never sets it.
func WithWriteFault(fault func() error) Option {
	return func(o *options) { o.writeFault = fault }
}
