variable "endpoint_url" {
  description = "URL of the local AWS emulator (moto server or LocalStack), e.g. http://127.0.0.1:5000."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/]+/?$", var.endpoint_url))
    error_message = "endpoint_url must be an http(s) URL without a path, e.g. http://127.0.0.1:5000."
  }
}

variable "region" {
  description = "Region the emulator should pretend to be (default us-east-1)."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name (2-32 lowercase letters, digits and hyphens)."
  type        = string
  default     = "dedup"
}
