# Dedicated identities: the functions never run as the default compute service account.

resource "google_service_account" "runtime" {
  account_id   = "${var.name_prefix}-run"
  display_name = "isphooks functions (runtime)"
}

resource "google_service_account" "build" {
  account_id   = "${var.name_prefix}-build"
  display_name = "isphooks functions (build)"
}

resource "google_service_account" "scheduler" {
  account_id   = "${var.name_prefix}-sched"
  display_name = "isphooks Cloud Scheduler caller"
}

# The runtime reads its own secret and nothing else.
resource "google_secret_manager_secret_iam_member" "runtime_reads_config" {
  secret_id = google_secret_manager_secret.config.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.runtime.email}"
}

# What Cloud Build needs to turn the archive into a function image.
resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])
  project  = var.project_id
  role     = each.key
  member   = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

# Billing-facing actions are public at the HTTP layer: each request must carry a Standard
# Webhooks signature (or a Google OIDC token), checked on the raw body before anything
# else; an unsigned request gets 401 and never reaches a panel. `private = true` removes
# this binding for setups that front the functions with API Gateway or a load balancer.
resource "google_cloud_run_service_iam_member" "public" {
  for_each = var.private ? toset([]) : toset(var.billing_actions)
  location = var.region
  service  = google_cloudfunctions2_function.action[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers" #checkov:skip=CKV_GCP_102:billing webhooks authenticate by Standard Webhooks signature in the function; see the comment above
}

resource "google_cloud_run_service_iam_member" "invokers" {
  for_each = {
    for pair in setproduct(local.actions, var.invoker_members) : "${pair[0]}/${pair[1]}" => pair
  }
  location = var.region
  service  = google_cloudfunctions2_function.action[each.value[0]].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value[1]
}

# The scheduler may invoke the actions it has jobs for (usage, check, scheduled retries).
resource "google_cloud_run_service_iam_member" "scheduler" {
  for_each = toset([for job in local.jobs : job.action])
  location = var.region
  service  = google_cloudfunctions2_function.action[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}
