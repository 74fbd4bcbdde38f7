variable "region" {
  description = "AWS region to deploy to (default eu-west-1)."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Prefix of every resource's name (2-32 lowercase letters, digits, hyphens; default orders)."
  type        = string
  default     = "orders"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name))
    error_message = "name must be 2-32 lowercase letters, digits and '-', starting with a letter."
  }
}

variable "deletion_protection" {
  description = "Whether the tables refuse deletion (true or false; default true, false for a sandbox that is torn down)."
  type        = bool
  default     = true
}
