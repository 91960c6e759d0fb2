package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"portabot/bot"
	"portabot/faq"
)

func runFAQ(env environment, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: portabot faq ask|eval", errUsage)
	}
	switch args[0] {
	case "ask":
		fs := newFlags("faq ask", env.stderr)
		asJSON := fs.Bool("json", false, "print one JSON line")
		lang := fs.String("lang", "en", "language when the question's own is unclear (en, pt, es)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if _, ok := bot.ParseLang(*lang); !ok {
			return fmt.Errorf("%w: --lang must be en, pt or es", errUsage)
		}
		q := strings.TrimSpace(strings.Join(fs.Args(), " "))
		if q == "" {
			return fmt.Errorf("%w: portabot faq ask QUESTION", errUsage)
		}
		res := faq.Default().Ask(q, *lang)
		if *asJSON {
			return json.NewEncoder(env.stdout).Encode(struct {
				Intent string  `json:"intent"`
				Score  float64 `json:"score"`
				Lang   string  `json:"lang"`
				Answer string  `json:"answer"`
			}{res.Intent, res.Score, res.Lang, res.Answer})
		}
		if res.Intent == faq.None {
			fmt.Fprintln(env.stdout, "(no confident answer)")
			for _, t := range res.Closest {
				fmt.Fprintf(env.stdout, "closest: %s (%s)\n", t.Title, t.Intent)
			}
			return nil
		}
		fmt.Fprintln(env.stdout, res.Answer)
		return nil
	case "eval":
		if len(args) != 2 {
			return fmt.Errorf("%w: portabot faq eval FILE", errUsage)
		}
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		rep, err := faq.Evaluate(faq.Default(), f)
		if err != nil {
			return err
		}
		return rep.WriteText(env.stdout)
	}
	return fmt.Errorf("%w: unknown faq command %q", errUsage, args[0])
}
