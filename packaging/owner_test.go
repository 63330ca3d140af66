package packaging

import (
	"os"
	"strconv"
	"syscall"
)

func owner(fi os.FileInfo) string {
	return strconv.FormatUint(uint64(fi.Sys().(*syscall.Stat_t).Uid), 10)
}
