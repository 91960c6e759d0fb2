package whatsapp

import (
	"errors"
	"net/url"
)

// transportCause drops the *url.Error wrapper, whose text repeats the
// request URL, and keeps what went wrong.
func transportCause(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
