# CX as Code for the IVR routing orchestrator, everything the call flow needs, named in one place (variables.tf):
# - the Web Services Data Actions integration, its credentials and the data action that calls our receiver (same
#   request/response/contract as ../data-action.json);
# - the companion Genesys Cloud Data Actions integration, its OAuth client and the action returning the caller's
#   participant id (../get-customer-participant.data-action.json, read from the file: one definition);
# - the Architect flow (../ivr-routing.archy.yaml), published with the names of the resources above substituted,
#   so its data action categories are the integrations' names;
# - the OAuth client + role the workers use (queue observations and their notification topic, estimated wait time,
#   conversation reads, participant attributes).
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

# aws_region "can be set with the GENESYSCLOUD_REGION environment variable" (provider docs, docs/index.md). The
# variable defaults to null, and an argument set to null is unset: the provider then reads GENESYSCLOUD_REGION.
# Only a region the user passes (-var genesys_region=eu-west-1) overrides it.
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
  name = var.action_name
  # Architect shows (and the flow's callData names) a data action under its integration's name.
  category               = genesyscloud_integration.receiver.config[0].name
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

  # GET /api/v2/conversations/{conversationId} (ConversationsApi.getConversation): the caller's participant when a
  # webhook names none.
  permission_policies {
    domain      = "conversation"
    entity_name = "communication"
    action_set  = ["view"]
  }

  # GET /api/v2/routing/queues/{queueId}/mediatypes/{mediaType}/estimatedwaittime (maxEstimatedWaitS in the routing
  # policy): "Requires ALL permissions: routing:queue:view" (SDK docs, RoutingApi.md › getRoutingQueueMediatypeEstimatedwaittime).
  permission_policies {
    domain      = "routing"
    entity_name = "queue"
    action_set  = ["view"]
  }

  # OCCUPANCY_SOURCE=notifications: POST /api/v2/notifications/channels and PUT …/channels/{id}/subscriptions are
  # "Requires NO permissions" (NotificationsApi.md), but subscribing to the topic v2.analytics.queues.{id}.observations
  # is permission-enforced; Genesys' topic:permission mapping (developer forum, "Permission enforcement - Notifications
  # API") lists analytics:queueObservation:view (above) and analytics:conversationAggregate:view for it: both granted.
  permission_policies {
    domain      = "analytics"
    entity_name = "conversationAggregate"
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

# --- Companion action: the caller's participant id, for the flow ------------------------------------------------

locals {
  # The export is the one definition of the companion action; Terraform reads it.
  companion = jsondecode(file("${path.module}/../get-customer-participant.data-action.json"))
}

resource "genesyscloud_auth_role" "companion" {
  name        = "${var.companion_integration_name} role"
  description = "Lets the companion data action read a call's participants (GET /api/v2/conversations/calls/{id})."

  permission_policies {
    domain      = "conversation"
    entity_name = "communication"
    action_set  = ["view"]
  }
}

resource "genesyscloud_oauth_client" "companion" {
  name                          = "${var.companion_integration_name} client"
  description                   = "Client credentials of the companion Genesys Cloud Data Actions integration."
  authorized_grant_type         = "CLIENT-CREDENTIALS"
  access_token_validity_seconds = 86400
  state                         = "active"
  # The provider creates a pureCloudOAuthClient integration credential from this client.
  integration_credential_name = "${var.companion_integration_name} credentials"

  roles {
    role_id     = genesyscloud_auth_role.companion.id
    division_id = data.genesyscloud_auth_division_home.home.id
  }
}

resource "genesyscloud_integration" "companion" {
  intended_state   = "ENABLED"
  integration_type = local.companion.integrationType
  config {
    name       = var.companion_integration_name
    properties = jsonencode({})
    advanced   = jsonencode({})
    notes      = "Reads the caller's participant id for the IVR routing flow (managed by Terraform)."
    credentials = {
      pureCloudOAuthClient = genesyscloud_oauth_client.companion.integration_credential_id
    }
  }
}

resource "genesyscloud_integration_action" "get_customer_participant" {
  name                   = local.companion.name
  category               = genesyscloud_integration.companion.config[0].name
  integration_id         = genesyscloud_integration.companion.id
  secure                 = local.companion.secure
  config_timeout_seconds = local.companion.config.timeoutSeconds
  contract_input         = jsonencode(local.companion.contract.input.inputSchema)
  contract_output        = jsonencode(local.companion.contract.output.successSchema)

  config_request {
    request_url_template = local.companion.config.request.requestUrlTemplate
    request_type         = local.companion.config.request.requestType
    request_template     = local.companion.config.request.requestTemplate
    headers              = local.companion.config.request.headers
  }

  config_response {
    translation_map          = local.companion.config.response.translationMap
    translation_map_defaults = local.companion.config.response.translationMapDefaults
    success_template         = local.companion.config.response.successTemplate
  }
}

# --- The Architect flow -----------------------------------------------------------------------------------------

resource "genesyscloud_flow" "ivr_routing" {
  filepath = "${path.module}/../ivr-routing.archy.yaml"
  # Every {{key}} of the flow, from the resources it calls (Archy substitutions; provider docs, genesyscloud_flow).
  substitutions = {
    flow_name                  = var.flow_name
    division_name              = data.genesyscloud_auth_division_home.home.name
    queue_name                 = var.queue_name
    integration_name           = genesyscloud_integration_action.decide_route.category
    action_name                = genesyscloud_integration_action.decide_route.name
    companion_integration_name = genesyscloud_integration_action.get_customer_participant.category
    companion_action_name      = genesyscloud_integration_action.get_customer_participant.name
  }
}
