package embedded

import "errors"

// errLocked says that another process holds the data directory.
var errLocked = errors.New("locked by another process")
