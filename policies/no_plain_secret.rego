# METADATA
# title: No plain Secrets in git
# description: A Secret with data in a repository leaks its values to everyone who can read the repository; commit it encrypted (SOPS) or as a SealedSecret, or source it with External Secrets.
# custom:
#   id: no-plain-secret
#   severity: warning
#   remediation: Encrypt the Secret with SOPS (and set spec.decryption on the Kustomization), or replace it with a SealedSecret or an ExternalSecret.
package gitopslint.no_plain_secret

deny contains {"msg": msg, "path": [field]} if {
	input.kind == "Secret"
	input.apiVersion == "v1"
	not input.sops
	some field in ["data", "stringData"]
	count(object.get(input, field, {})) > 0
	msg := sprintf("Secret %s holds %s in plain text (not SOPS-encrypted)", [input.metadata.name, field])
}
