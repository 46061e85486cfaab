package organizations

import (
	"strconv"
	"time"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
)

func millisKey(t time.Time) string { return strconv.FormatInt(store.Millis(t), 10) }

func cursorMillis(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fault.Invalid("%v", paging.ErrCursor)
	}
	return n, nil
}
