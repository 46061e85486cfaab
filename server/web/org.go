package web

// orgRoutes are an organization's pages for its admins (org*.go).
func (p *Pages) orgRoutes() []route {
	if p.d.Organizations == nil {
		return nil
	}
	return nil
}

// Workspaces is the part of *workspaces.Service the pages use.
type Workspaces interface{}
