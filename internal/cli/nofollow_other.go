//go:build !unix

package cli

// noFollow: Windows has no O_NOFOLLOW; os.Root already refuses links that
// leave the repository, and the Lstat check refuses a link in place.
const noFollow = 0
