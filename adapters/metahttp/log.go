package metahttp

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Logger receives resty's own warnings (one per failed attempt, with the
// request URL) and passes them on at debug level with URLs and the token
// removed.
type Logger struct {
	Log *slog.Logger
	// Token is removed wherever it appears.
	Token string
	// Name says which client logged, e.g. "graph http client".
	Name string
}

func (l Logger) Errorf(format string, v ...any) { l.emit(format, v) }
func (l Logger) Warnf(format string, v ...any)  { l.emit(format, v) }
func (l Logger) Debugf(format string, v ...any) { l.emit(format, v) }

func (l Logger) emit(format string, v []any) {
	l.Log.Debug(l.Name, "detail", Redact(fmt.Sprintf(format, v...), l.Token))
}

var urlPattern = regexp.MustCompile(`https?://[^\s"]+`)

// Redact removes URLs and the token from text bound for a log.
func Redact(s, token string) string {
	if token != "" {
		s = strings.ReplaceAll(s, token, "[redacted]")
	}
	return urlPattern.ReplaceAllString(s, "[url]")
}
