package graphtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func Example() {
	srv := graphtest.NewServer(graphtest.Options{Domains: []string{"example.com"}})
	defer srv.Close()

	// Seed the tenant directly...
	id, err := srv.CreateUser(map[string]any{
		"accountEnabled":    true,
		"displayName":       "Ada Lovelace",
		"mailNickname":      "ada",
		"userPrincipalName": "ada@example.com",
		"passwordProfile":   map[string]any{"password": "Analytical-Engine-1843"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// ...and read it back through the Graph REST API.
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/v1.0/users/ada@example.com?$select=id,displayName", nil)
	req.Header.Set("Authorization", "Bearer any-token")
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var user struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&user)
	fmt.Println(resp.StatusCode, user.DisplayName, user.ID == id)

	// A second user with the same userPrincipalName is refused as Graph does.
	body := `{"accountEnabled":true,"displayName":"Impostor","mailNickname":"ada2",
		"userPrincipalName":"ADA@example.com","passwordProfile":{"password":"x"}}`
	req, _ = http.NewRequest(http.MethodPost, srv.URL()+"/v1.0/users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer any-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err = srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var graphErr struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&graphErr)
	fmt.Println(resp.StatusCode, graphErr.Error.Code)
	fmt.Println(graphErr.Error.Message)
	// Output:
	// 200 Ada Lovelace true
	// 400 Request_BadRequest
	// Another object with the same value for property userPrincipalName already exists.
}
