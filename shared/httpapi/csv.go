package httpapi

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/release"
)

// CSV export of the customer's listing (GET /v1/numbers, Accept: text/csv).
const (
	csvContentType = "text/csv; charset=utf-8; header=present"
	// MaxExportNumbers bounds an export: 100 pages of the listing's
	// largest page, about 3 MB of CSV, well inside a Lambda answer's 6 MB.
	MaxExportNumbers = 100 * domain.MaxPageSize
)

// csvHeader is the export's header row.
var csvHeader = []string{"number", "status", "message", "requested_by", "requested_at", "updated_at", "request_id"}

// wantsCSV reports whether the Accept header prefers text/csv to
// application/json (the default: no Accept, */* and ties answer JSON).
func wantsCSV(accept string) bool {
	if accept == "" {
		return false
	}
	quality := func(want string) float64 {
		best, specific := 0.0, -1
		typ, _, _ := strings.Cut(want, "/")
		for _, part := range strings.Split(accept, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(v, 64); err != nil {
					continue
				}
			}
			level := -1
			switch mt {
			case want:
				level = 2
			case typ + "/*":
				level = 1
			case "*/*":
				level = 0
			}
			if level > specific {
				best, specific = q, level
			}
		}
		return best
	}
	c := quality("text/csv")
	return c > 0 && c > quality("application/json")
}

// exportCSV answers the customer's whole listing, every page of it with the
// same filters, as CSV (RFC 4180). The export starts at the beginning, so
// it takes no cursor, and reads pages of the largest size, so it takes no
// limit; more than MaxExportNumbers numbers are refused, naming the filters
// that narrow it.
func (a *API) exportCSV(w http.ResponseWriter, r *http.Request, p auth.Principal, q release.ListParams) {
	if q.Cursor != "" || q.Limit != 0 {
		a.problem(w, r, apperr.New(apperr.Invalid, "an export (Accept: text/csv) is the whole listing: leave out cursor and limit"))
		return
	}
	q.Limit = domain.MaxPageSize
	var rows []domain.Number
	for {
		page, err := a.svc.CustomerList(r.Context(), p, q)
		if err != nil {
			a.problem(w, r, err)
			return
		}
		rows = append(rows, page.Items...)
		if len(rows) > MaxExportNumbers {
			a.problem(w, r, apperr.New(apperr.Invalid, "the export holds more than %d numbers; narrow it with status or q", MaxExportNumbers))
			return
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	body, err := numbersCSV(rows)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", csvContentType)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="numbers-%s-%s.csv"`, p.TenantID, time.Now().UTC().Format(time.DateOnly)))
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// numbersCSV writes numbers as CSV (RFC 4180: CRLF line ends, quotes where
// needed) under csvHeader. Times are RFC 3339 in UTC; requested_by is the
// provider that asked for the release.
func numbersCSV(numbers []domain.Number) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	if err := cw.Write(csvHeader); err != nil {
		return nil, fmt.Errorf("write csv header: %w", err)
	}
	for _, n := range numbers {
		row := []string{
			n.Number, // E.164, checked on the way in: "+" and digits, never a formula
			safeCell(string(n.Status)),
			safeCell(n.Message),
			safeCell(n.ProviderID),
			n.RequestedAt.UTC().Format(time.RFC3339Nano),
			n.UpdatedAt.UTC().Format(time.RFC3339Nano),
			safeCell(n.RequestID),
		}
		if err := cw.Write(row); err != nil {
			return nil, fmt.Errorf("write csv row: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	return buf.Bytes(), nil
}

// safeCell guards a free-text cell against CSV (formula) injection: a
// spreadsheet reads a cell that starts with =, +, -, @, a tab or a carriage
// return as a formula, so such a cell gets a leading apostrophe and is read
// as text. The number column is not passed through it: an E.164 number
// starts with "+" and holds only digits, which no spreadsheet can run.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
