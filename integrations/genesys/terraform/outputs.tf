output "integration_id" {
  description = "Web Services Data Actions integration id."
  value       = genesyscloud_integration.receiver.id
}

output "data_action_id" {
  description = "Data action id (custom_-_...); the Archy flow refers to the action by name."
  value       = genesyscloud_integration_action.decide_route.id
}

output "data_action_name" {
  description = "Name to use in the Archy callData action."
  value       = genesyscloud_integration_action.decide_route.name
}

output "worker_oauth_client_id" {
  description = "Set as GENESYS_CLIENT_ID for the workers. The secret is not exported: copy it from Admin > OAuth, or set expose_client_secret."
  value       = genesyscloud_oauth_client.workers.id
}

output "worker_role_id" {
  description = "Role granted to the workers' OAuth client."
  value       = genesyscloud_auth_role.workers.id
}

output "flow_id" {
  description = "The published inbound call flow; assign it to a DID in Admin > Routing > Call Routing."
  value       = genesyscloud_flow.ivr_routing.id
}

output "companion_action_id" {
  description = "The companion action returning the caller's participant id."
  value       = genesyscloud_integration_action.get_customer_participant.id
}
