# The config document lives in Secret Manager. Terraform creates the secret only: its
# payload (panel passwords, webhook secrets) is added out of band with
# `gcloud secrets versions add`, so no secret value ever enters the Terraform state.
resource "google_secret_manager_secret" "config" {
  secret_id = var.secret_id
  labels    = var.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}
