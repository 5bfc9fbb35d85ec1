# One static outbound address for every function (static_egress = true; off by default).
# Most ISPmanager panels accept port 1500 only from known addresses, and functions leave
# Google Cloud from addresses that change. With static_egress, each function sends ALL of
# its outbound traffic (vpc_connector_egress_settings = "ALL_TRAFFIC", main.tf) through a
# Serverless VPC Access connector into its own VPC network, where Cloud NAT translates it to
# one reserved external address: the `egress_ip` output, the one address to allow on the
# panels (infra/README.md, "Static egress").
#
# Why a connector and not Direct VPC egress, which Google now recommends: versions.tf pins
# the google provider to 6.x, whose google_cloudfunctions2_function has only
# service_config.vpc_connector and vpc_connector_egress_settings; Direct VPC egress for it
# (service_config.direct_vpc_network_interface, direct_vpc_egress) is in the google
# provider from 7.21.0 (CHANGELOG, #26142).
#
# Arguments as documented for the pinned provider range, checked at v6.0.0 and v6.50.0 in
# hashicorp/terraform-provider-google website/docs/r/: google_project_service,
# compute_network, compute_subnetwork, compute_firewall, vpc_access_connector,
# compute_router, compute_address, compute_router_nat, cloudfunctions2_function.
# Everything here exists only when static_egress is true.

locals {
  egress_count = var.static_egress ? 1 : 0
  # Serverless VPC Access connector names: "less than 21 characters long, and hyphens (-)
  # count as two characters" (https://cloud.google.com/functions/docs/networking/connecting-vpc);
  # the provider itself only says "Max 25 characters". Checked by the connector's precondition.
  egress_connector_name = coalesce(var.egress_connector_name, "${var.name_prefix}-egress")
}

# The connector and Cloud NAT need the Compute Engine and Serverless VPC Access APIs.
resource "google_project_service" "egress" {
  for_each           = var.static_egress ? toset(["compute.googleapis.com", "vpcaccess.googleapis.com"]) : toset([])
  service            = each.key
  disable_on_destroy = false
}

# A custom-mode network of its own: nothing else runs in it.
resource "google_compute_network" "egress" {
  count                   = local.egress_count
  name                    = "${var.name_prefix}-egress"
  description             = "isphooks: the functions' outbound traffic, NATed to one address"
  auto_create_subnetworks = false

  depends_on = [google_project_service.egress]
}

# "Each Serverless VPC Access connector requires its own /28 subnet ... If you choose the
# custom IP range, the subnet that is created is hidden and cannot be used in firewall rules
# and NAT configurations" (https://cloud.google.com/run/docs/configuring/vpc-connectors):
# so the connector gets this subnet, which the NAT names. Private Google Access and flow
# logs (checkov CKV_GCP_74, CKV_GCP_26); flow logs aggregated over 10 minutes to keep their
# volume down.
resource "google_compute_subnetwork" "egress" {
  count                    = local.egress_count
  name                     = "${var.name_prefix}-egress-connector"
  region                   = var.region
  network                  = google_compute_network.egress[0].id
  ip_cidr_range            = var.egress_subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Nothing may connect into this network (checkov CKV2_GCP_18: a network with a firewall of
# its own). At priority 65534 the rule only makes explicit what the implied deny-ingress
# rule (65535) does: it overrides only allow rules of priority 65534 or 65535 ("DENY rules
# take precedence over ALLOW rules having equal priority"), so the rules Serverless VPC
# Access manages for its connector instances are left alone unless they sit that low
# (their priority is not checked here).
resource "google_compute_firewall" "egress_deny_ingress" {
  count         = local.egress_count
  name          = "${var.name_prefix}-egress-deny-ingress"
  description   = "isphooks egress network: no inbound connections"
  network       = google_compute_network.egress[0].self_link
  direction     = "INGRESS"
  priority      = 65534
  source_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }
}

# Serverless VPC Access manages firewall rules of its own for each connector, and they can
# outlive the connector by a while, keeping the network from being deleted right after it
# (the reason for the same wait in GoogleCloudPlatform/terraform-google-three-tier-web-app
# PR #200). The connector depends on this wait, so a teardown deletes the connector, waits,
# then deletes the subnet and the network. 90 s is a guess: if the network's deletion still
# fails on such a rule, apply again.
resource "time_sleep" "egress_connector_teardown" {
  count            = local.egress_count
  destroy_duration = "90s"

  depends_on = [google_compute_subnetwork.egress]
}

# The connector the functions send their traffic to, in their region, on the /28 above
# (`subnet.name` is the relative name, not a self link). Instances rather than throughput:
# the provider discourages min_throughput/max_throughput "in favor of" min_instances and
# max_instances, and from 6.0 each pair conflicts with the other.
resource "google_vpc_access_connector" "egress" {
  count         = local.egress_count
  name          = local.egress_connector_name
  region        = var.region
  machine_type  = var.egress_connector_machine_type
  min_instances = 2
  max_instances = var.egress_connector_max_instances

  subnet {
    name = google_compute_subnetwork.egress[0].name
  }

  lifecycle {
    # Turning static_egress off deletes this connector: Terraform deletes a resource
    # before it updates the resources that used it, unless the resource is
    # create_before_destroy, so without this the connector (and the NAT, below) would go
    # while every function still sends its traffic to it. With it, the functions drop the
    # connector first. (Terraform extends this to what the connector depends on: subnet,
    # network, APIs, the wait above.)
    create_before_destroy = true

    precondition {
      condition     = can(regex("^[a-z][-a-z0-9]*[a-z0-9]$", local.egress_connector_name)) && length(local.egress_connector_name) + length(regexall("-", local.egress_connector_name)) <= 20
      error_message = "The connector name (name_prefix + \"-egress\", or egress_connector_name) must be under 21 characters with each hyphen counted twice: set a shorter egress_connector_name."
    }
  }

  depends_on = [google_project_service.egress, time_sleep.egress_connector_teardown]
}

# The one address the functions' traffic leaves from. EXTERNAL and regional (the NAT's
# region); PREMIUM tier, the default.
resource "google_compute_address" "egress" {
  count        = local.egress_count
  name         = "${var.name_prefix}-egress"
  description  = "isphooks: the functions' outbound address (allow it on the panels)"
  region       = var.region
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"
  labels       = var.labels

  depends_on = [google_project_service.egress]
}

resource "google_compute_router" "egress" {
  count   = local.egress_count
  name    = "${var.name_prefix}-egress"
  region  = var.region
  network = google_compute_network.egress[0].id
}

# Cloud NAT for the connector's subnet only, with the reserved address only (MANUAL_ONLY:
# never an address of Google's choosing). Every function instance's connections leave
# through the 2 to egress_connector_max_instances connector VMs, and a VM's NAT ports
# (min_ports_per_vm; default 64 with static allocation) bound its simultaneous connections
# to one destination, one panel's port 1500: 4096 each still fits the ten VMs a connector
# may have into the 64,512 ports of one address. NAT errors (port exhaustion, dropped
# connections) go to Cloud Logging.
resource "google_compute_router_nat" "egress" {
  count                              = local.egress_count
  name                               = "${var.name_prefix}-egress"
  router                             = google_compute_router.egress[0].name
  region                             = var.region
  nat_ip_allocate_option             = "MANUAL_ONLY"
  nat_ips                            = [google_compute_address.egress[0].self_link]
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"
  min_ports_per_vm                   = 4096

  subnetwork {
    name                    = google_compute_subnetwork.egress[0].self_link
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }

  # Like the connector: turning static_egress off detaches the functions before the NAT
  # goes (they depend on it, main.tf).
  lifecycle {
    create_before_destroy = true
  }
}
