# CX as Code for the IVR routing orchestrator: the Web Services Data Actions integration our call flow uses,
# its credentials, the data action (same request/response/contract as ../data-action.json), and the OAuth
# client + role the workers use for queue observations and participant attributes.
#
#   export GENESYSCLOUD_OAUTHCLIENT_ID=... GENESYSCLOUD_OAUTHCLIENT_SECRET=... GENESYSCLOUD_REGION=...
#   terraform init && terraform apply -var receiver_base_url=https://ivr.example.com -var webhook_token=...

terraform {
  required_version = ">= 1.5"
  required_providers {
    genesyscloud = {
      source  = "mypurecloud/genesyscloud"
      version = ">= 1.40.0"
    }
  }
}

provider "genesyscloud" {
  aws_region = var.genesys_region
}

# --- Data action: Genesys -> our receiver --------------------------------------------------------------

resource "genesyscloud_integration_credential" "receiver" {
  name                 = "${var.integration_name} credentials"
  credential_type_name = "userDefined"
  fields = {
    # Referenced from the action as $${credentials.baseUrl} / $${credentials.webhookToken}.
    baseUrl      = var.receiver_base_url
    webhookToken = var.webhook_token
  }
}

resource "genesyscloud_integration" "receiver" {
  intended_state   = "ENABLED"
  integration_type = "custom-rest-actions"
  config {
    name       = var.integration_name
    properties = jsonencode({})
    advanced   = jsonencode({})
    notes      = "Calls the IVR receiver POST /webhook/genesys-dtmf (managed by Terraform)."
    credentials = {
      # The provider's key for Web Services Data Actions credentials, whatever the credential type.
      basicAuth = genesyscloud_integration_credential.receiver.id
    }
  }
}

resource "genesyscloud_integration_action" "decide_route" {
  name                   = var.action_name
  category               = var.integration_name
  integration_id         = genesyscloud_integration.receiver.id
  secure                 = false
  config_timeout_seconds = var.action_timeout_seconds

  contract_input = jsonencode({
    "$schema"            = "http://json-schema.org/draft-04/schema#"
    title                = "IVR routing request"
    type                 = "object"
    required             = ["conversationId", "participantId", "dtmf", "attempt"]
    additionalProperties = true
    properties = {
      conversationId = { type = "string", description = "Call.ConversationId" }
      participantId  = { type = "string", description = "The caller's (customer) participant id" }
      dtmf           = { type = "string", description = "Digits the caller pressed (0-9 * # A-D)" }
      attempt        = { type = "integer", description = "Collection number in this call; part of the idempotency key" }
    }
  })

  contract_output = jsonencode({
    "$schema"            = "http://json-schema.org/draft-04/schema#"
    title                = "IVR routing answer"
    type                 = "object"
    required             = ["status", "routing", "availableAgents"]
    additionalProperties = true
    properties = {
      status          = { type = "string", description = "decided | accepted | duplicate | skipped | unknown" }
      routing         = { type = "string", enum = ["route_to_queue", "route_to_vm"] }
      availableAgents = { type = "integer", description = "Idle on-queue agents when decided; -1 when not decided" }
      decisionId      = { type = "string" }
    }
  })

  config_request {
    # '$${' is a literal '${' for Terraform: these are Velocity references resolved by Genesys.
    request_url_template = "$${credentials.baseUrl}/webhook/genesys-dtmf"
    request_type         = "POST"
    request_template     = "{\"conversationId\": \"$esc.jsonString($${input.conversationId})\", \"participantId\": \"$esc.jsonString($${input.participantId})\", \"dtmf\": \"$esc.jsonString($${input.dtmf})\"}"
    headers = {
      "Content-Type"    = "application/json"
      "Prefer"          = "wait=${var.prefer_wait_seconds}"
      "X-Webhook-Token" = "$${credentials.webhookToken}"
      "Idempotency-Key" = "ivr:$${input.conversationId}:$${input.participantId}:$${input.attempt}:$${input.dtmf}"
    }
  }

  config_response {
    translation_map = {
      status          = "$.status"
      routing         = "$.routing"
      availableAgents = "$.availableAgents"
      decisionId      = "$.decisionId"
    }
    translation_map_defaults = {
      status          = "\"unknown\""
      routing         = "\"route_to_queue\""
      availableAgents = "-1"
      decisionId      = "\"\""
    }
    success_template = "{\"status\": $${status}, \"routing\": $${routing}, \"availableAgents\": $${availableAgents}, \"decisionId\": $${decisionId}}"
  }

  lifecycle {
    precondition {
      condition     = var.prefer_wait_seconds < var.action_timeout_seconds
      error_message = "prefer_wait_seconds must be below action_timeout_seconds, or the action times out before our 202."
    }
  }
}

# --- Workers: OAuth client (client credentials) and its role ----------------------------------------------

data "genesyscloud_auth_division_home" "home" {}

resource "genesyscloud_auth_role" "workers" {
  name        = "IVR Routing Orchestrator Workers"
  description = "Least privilege for the IVR routing workers (see integrations/genesys/README.md)."

  # POST /api/v2/analytics/queues/observations/query (occupancy check).
  permission_policies {
    domain      = "analytics"
    entity_name = "queueObservation"
    action_set  = ["view"]
  }

  # PATCH /api/v2/conversations/{conversationId}/participants/{participantId}/attributes is listed with
  # "Requires NO permissions" in the Platform API reference; nothing to grant for it (see README).
}

resource "genesyscloud_oauth_client" "workers" {
  name                          = var.worker_client_name
  description                   = "Client credentials for the IVR routing workers (GENESYS_CLIENT_ID/SECRET)."
  authorized_grant_type         = "CLIENT-CREDENTIALS"
  access_token_validity_seconds = 86400
  state                         = "active"

  roles {
    role_id     = genesyscloud_auth_role.workers.id
    division_id = data.genesyscloud_auth_division_home.home.id
  }
}
