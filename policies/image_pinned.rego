# METADATA
# title: Images are pinned
# description: A container image without a tag, or tagged latest, changes under the workload without a commit; pin a version or a digest.
# custom:
#   id: image-pinned
#   severity: warning
#   remediation: Set an explicit version tag (and ideally a digest), e.g. nginx:1.27.3.
package gitopslint.image_pinned

import data.gitopslint.lib

warn contains {"msg": msg, "path": array.concat(c.path, ["image"])} if {
	some c in lib.input_containers
	not pinned(c.container.image)
	msg := sprintf("%s: container %q uses image %q, which is not pinned to a version", [lib.name(input), c.container.name, c.container.image])
}

pinned(image) if contains(image, "@sha256:")

pinned(image) if {
	not contains(image, "@")
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	tag := split(last, ":")[1]
	tag != "latest"
	tag != ""
}
