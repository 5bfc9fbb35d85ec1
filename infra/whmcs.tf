# The WHMCS modules (integrations/whmcs) call one URL per action: this is the template to
# paste into the WHMCS server's "Access Hash" field. Gen2 functions answer at
# https://REGION-PROJECT.cloudfunctions.net/NAME, and every function is <prefix>-<action>.
output "whmcs_access_hash" {
  description = "WHMCS server field Access Hash: the isphooks URL template, {action} replaced by the module."
  value       = "https://${var.region}-${var.project_id}.cloudfunctions.net/${var.name_prefix}-{action}"
}
