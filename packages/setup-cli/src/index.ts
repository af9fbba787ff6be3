// @tsmw/setup-cli (tsmw-setup) is not implemented yet: it arrives in its own issue. This entry
// exports nothing, so that nothing can come to depend on a placeholder.
export {};
